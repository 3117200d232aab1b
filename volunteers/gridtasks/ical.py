"""A person's tasks as an iCalendar (RFC 5545) feed, written with the `icalendar` package, which does
the escaping and the 75-octet line folding. Times are in UTC, so no VTIMEZONE block is needed."""

from collections.abc import Callable, Iterable
from datetime import UTC

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .models import GridTask, SignUp

_EVENT_STATUS = {
    SignUp.Status.CONFIRMED: "CONFIRMED",
    SignUp.Status.ATTENDED: "CONFIRMED",
    SignUp.Status.NO_SHOW: "CONFIRMED",
    SignUp.Status.OFFERED: "TENTATIVE",
    SignUp.Status.WAITLISTED: "TENTATIVE",
}


def feed(*, person, signups: Iterable[SignUp], url_for: Callable[[GridTask], str], host: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Gongzhi//Grid tasks//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("My grid tasks"))
    cal.add("x-wr-timezone", timezone.get_current_timezone_name())
    stamp = timezone.now().astimezone(UTC)
    for signup in signups:
        task = signup.task
        event = Event()
        # Stable per task and person: a calendar updates the event instead of adding a copy.
        event.add("uid", f"{task.public_code}@{host}")
        event.add("dtstamp", stamp)
        event.add("last-modified", max(task.updated_at, signup.updated_at).astimezone(UTC))
        event.add("dtstart", task.starts_at.astimezone(UTC))
        event.add("dtend", task.ends_at.astimezone(UTC))
        summary = task.title
        if signup.status in (SignUp.Status.WAITLISTED, SignUp.Status.OFFERED):
            summary = _("%(title)s (waitlist)") % {"title": task.title}
        event.add("summary", summary)
        event.add("location", task.place_name)
        lines = [f"{task.category.name} · {task.grid}"]
        if task.description:
            lines.append(task.description)
        if signup.status == SignUp.Status.OFFERED:
            lines.append(_("A place is offered to you: confirm it on the task's page."))
        event.add("description", "\n".join(lines))
        event.add("url", url_for(task))
        if task.latitude is not None and task.longitude is not None:
            event.add("geo", (float(task.latitude), float(task.longitude)))
        cancelled = task.status == GridTask.Status.CANCELLED or signup.status == SignUp.Status.CANCELLED
        event.add("status", "CANCELLED" if cancelled else _EVENT_STATUS.get(signup.status, "CONFIRMED"))
        cal.add_component(event)
    return cal.to_ical()
