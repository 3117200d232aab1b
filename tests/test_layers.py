"""The layers of the code hold: each app imports the foundation and the layers below it, never above, and
no module imports one that imports it back.

Read from the source (the AST of every file), not by importing anything, so the check costs a second and
sees imports made inside functions too. `LAYERS` is the one place the order is written down (the README's
"Where things live" table says the same in words); a new app or sub-app is one line here.
"""

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The project's packages. site/ is a source folder, not a package: site/core is the package `core`.
PACKAGES = [
    "site/core",
    "volunteers",
    "points",
    "services_catalog",
    "site/config",
    "site/cms",
    "site/dashboard",
    "site/demo",
]

# Lowest first. A module may import its own app, and any app of a layer listed before its own.
LAYERS: list[tuple[str, ...]] = [
    # The foundation: notifications, signed links, XLSX, reports, the admin kit, text, event rows.
    ("core",),
    # Places, people, identities, organisations, scopes.
    ("volunteers",),
    # Its sub-apps: siblings, each on its own (but see SIBLING_IMPORTS).
    ("volunteers.gridtasks", "volunteers.workorders", "volunteers.patrols"),
    # The ledger, rules and awards.
    ("points",),
    # Its sub-apps.
    ("points.cases", "points.redemption", "points.leaderboards", "points.certificates", "points.assessment"),
    ("services_catalog",),
    # The top floor: the project, the CMS pages, the dashboard and the demo seeding may import anything.
    ("config", "cms", "dashboard", "demo"),
]
TOP_FLOOR = set(LAYERS[-1])
# (importer, imported): siblings of one layer that may import each other in this direction only.
SIBLING_IMPORTS = {("volunteers.patrols", "volunteers.workorders")}
# (importer, imported): imports made at call time that close a circle, allowed for the reason given.
# Wagtail puts a page's request handling (get_context, serve, its routes) on the page model, and a
# StreamField's blocks are defined before the models that use them but render with reads that query
# those models: the page and its blocks reach the modules that query pages when they handle a request.
CALL_TIME_CIRCLES = frozenset(
    {
        ("cms.models", "cms.selectors"),
        ("cms.models", "cms.services"),
        ("cms.blocks", "cms.models"),
        ("cms.blocks", "cms.selectors"),
    }
)

LEVEL = {app: level for level, apps in enumerate(LAYERS) for app in apps}


def app_of(module: str) -> str | None:
    """The app (the longest name in LAYERS) a module belongs to; None for anything not ours."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        if name in LEVEL:
            return name
    return None


def may_import(importer: str, imported: str) -> bool:
    if importer == imported or importer in TOP_FLOOR:
        return True
    return LEVEL[imported] < LEVEL[importer] or (importer, imported) in SIBLING_IMPORTS


@dataclass(frozen=True)
class Import:
    path: str  # relative to the project root, for messages
    line: int
    module: str  # the importing module
    target: str  # the module imported (for `from x import y`: x.y when that is a module, else x)
    in_function: bool
    explained: bool  # a comment on its line, or just above it (or above the run of imports it is in)


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT / "site" if path.is_relative_to(ROOT / "site") else ROOT)
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(roots=None) -> list[Path]:
    files = []
    for package in roots or PACKAGES:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def _explained(lines: list[str], node: ast.stmt, import_lines: set[int]) -> bool:
    if any("#" in lines[n - 1] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)):
        return True
    n = node.lineno - 1
    # Above a run of imports (blank lines between groups included) a comment may speak for all of them.
    while n >= 1 and (n in import_lines or not lines[n - 1].strip()):
        n -= 1
    return n >= 1 and lines[n - 1].strip().startswith("#")


def imports_in(path: Path, source: str, known_modules: set[str]) -> list[Import]:
    """Every import of one file, resolved to absolute module names."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(source, filename=str(path))
    lines = source.splitlines()
    nodes = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    import_lines = {n for node in nodes for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
    in_function = {
        id(inner)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(function)
    }
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known_modules else base
                for alias in node.names
            ]
        for target in dict.fromkeys(targets):
            found.append(
                Import(
                    path=str(path.relative_to(ROOT)),
                    line=node.lineno,
                    module=module,
                    target=target,
                    in_function=id(node) in in_function,
                    explained=_explained(lines, node, import_lines),
                )
            )
    return found


def all_imports(files: dict[Path, str]) -> list[Import]:
    known = {module_name(path) for path in files}
    return [found for path, source in files.items() for found in imports_in(path, source, known)]


def wrong_way(imports: list[Import]) -> list[str]:
    """Imports of an app above (or beside) the importer's, as "file:line: a imports b (c above d)".
    An import inside a function counts too, unless a comment there says why it is made there."""
    problems = []
    for found in imports:
        importer, imported = app_of(found.module), app_of(found.target)
        if importer is None or imported is None or may_import(importer, imported):
            continue
        if found.in_function and found.explained:
            continue
        problems.append(
            f"{found.path}:{found.line}: {found.module} imports {found.target} "
            f"({imported} is not below {importer})"
        )
    return problems


def circles(imports: list[Import], allowed: frozenset = frozenset()) -> list[list[str]]:
    """Import circles among our modules, each as the sorted list of the modules around it. Imports made
    inside functions count: a circle dodged by importing at call time is still a circle. `allowed` lists
    the (importer, imported) call-time imports known to close one, each for a reason given where it is
    listed."""
    graph: dict[str, set[str]] = {}
    for found in imports:
        if found.in_function and (found.module, found.target) in allowed:
            continue
        if app_of(found.target) and found.target != found.module:
            graph.setdefault(found.module, set()).add(found.target)
    index, low, stack, on_stack, found_circles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found_circles.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found_circles


def unexplained_inner_imports(imports: list[Import]) -> list[str]:
    return [
        f"{found.path}:{found.line}: import of {found.target} inside a function, without a comment saying why"
        for found in imports
        if found.in_function and not found.explained and app_of(found.module)
    ]


@pytest.fixture(scope="module")
def project_imports() -> list[Import]:
    return all_imports({path: path.read_text(encoding="utf-8") for path in source_files()})


def test_every_package_is_in_a_layer():
    for package in PACKAGES:
        assert app_of(module_name(ROOT / package / "__init__.py")), package


def test_no_app_imports_a_layer_above_its_own(project_imports):
    problems = wrong_way(project_imports)
    assert not problems, "Wrong-way imports (see LAYERS in this file):\n" + "\n".join(problems)


def test_no_import_circles(project_imports):
    found = circles(project_imports, CALL_TIME_CIRCLES)
    assert not found, "Import circles:\n" + "\n".join(" ↔ ".join(circle) for circle in found)


def test_every_import_inside_a_function_says_why(project_imports):
    problems = unexplained_inner_imports(project_imports)
    assert not problems, "\n".join(problems)


# --- the check itself fails where it should ------------------------------------------------------------
def _imports_of(files: dict[str, str]) -> list[Import]:
    return all_imports({ROOT / path: textwrap.dedent(source) for path, source in files.items()})


def test_a_wrong_way_import_is_reported_with_file_and_line():
    imports = _imports_of(
        {
            "volunteers/gridtasks/example.py": """
                from django.db import transaction

                from points.services import request_attendance_award
                """,
            "site/core/example.py": """
                def f():
                    from volunteers.scopes import scope_for
                """,
        }
    )

    assert wrong_way(imports) == [
        "volunteers/gridtasks/example.py:4: volunteers.gridtasks.example imports points.services "
        "(points is not below volunteers.gridtasks)",
        "site/core/example.py:3: core.example imports volunteers.scopes (volunteers is not below core)",
    ]


def test_imports_down_and_on_the_top_floor_pass_and_siblings_do_not():
    imports = _imports_of(
        {
            "points/example.py": "from volunteers.gridtasks.models import Attendance\nimport core.text\n",
            "site/cms/example.py": "from services_catalog.selectors import catalogue_services\n",
            "volunteers/patrols/example.py": "from volunteers.workorders.services import do_open\n",
            "volunteers/workorders/example.py": "from volunteers.patrols.services import do_round\n",
            "points/cases/example.py": "from points.redemption import services\n",
        }
    )

    assert [problem.split(":")[0] for problem in wrong_way(imports)] == [
        "volunteers/workorders/example.py",
        "points/cases/example.py",
    ]


def test_an_explained_import_inside_a_function_is_allowed_and_an_unexplained_one_is_not():
    imports = _imports_of(
        {
            "site/core/example.py": """
                def ready():
                    # The registry is ready only now.
                    from .models import Notification

                    from . import tasks


                def later():
                    from .models import Delivery
                """,
        }
    )

    assert unexplained_inner_imports(imports) == [
        "site/core/example.py:10: import of core.models inside a function, without a comment saying why"
    ]


def test_a_circle_is_found_also_when_dodged_inside_a_function_unless_allowed():
    imports = _imports_of(
        {
            "points/services/example.py": "from points.example_tasks import post\n",
            "points/example_tasks.py": """
                def post(award_id):
                    from points.services.example import do_post  # a circle, however well explained
                """,
            "points/example_other.py": "from points.services.example import do_post\n",
        }
    )

    assert circles(imports) == [["points.example_tasks", "points.services.example"]]
    assert circles(imports, frozenset({("points.example_tasks", "points.services.example")})) == []
