"""Reference data from seed 000: the nine "9-81" duty categories and the six grid-worker roles."""

from django.db import migrations

DUTY_CATEGORIES = [
    ("information", "信息采集维护", "采集、核实和维护网格内人、地、事、物、组织等基础信息。"),
    ("patrol", "社会治安巡查", "日常治安巡查、重点部位巡更、夜间巡防。"),
    ("hazard", "安全隐患排查", "消防、燃气、建筑、交通等安全隐患的发现与上报。"),
    ("special_groups", "特殊人员服务", "走访关爱独居老人、困难家庭、特殊人群。"),
    ("mediation", "矛盾排查化解", "排查邻里、家庭、物业等矛盾纠纷并参与调解。"),
    ("urban_affairs", "城乡治理协管", "协助市容环境、违章搭建、垃圾分类等城乡治理工作。"),
    ("opinion", "民意搜集调查", "收集群众诉求，开展民意调查。"),
    ("publicity", "政策法律宣讲", "宣传政策法规，开展普法宣讲。"),
    ("errands", "为民代办服务", "为行动不便的群众代办各类事项。"),
]

GRID_WORKER_ROLES = [
    ("collector", "信息采集员"),
    ("service", "便民服务员"),
    ("mediator", "矛盾化解员"),
    ("patroller", "治安巡查员"),
    ("liaison", "社情联络员"),
    ("publicist", "政策宣传员"),
]

SKILLS = ["法律咨询", "医疗护理", "心理疏导", "水电维修", "教育辅导", "文艺表演", "摄影摄像", "驾驶", "助老陪伴", "外语翻译"]


def seed(apps, schema_editor):
    DutyCategory = apps.get_model("volunteers", "DutyCategory")
    GridWorkerRole = apps.get_model("volunteers", "GridWorkerRole")
    Skill = apps.get_model("volunteers", "Skill")
    for order, (code, name, description) in enumerate(DUTY_CATEGORIES, start=1):
        DutyCategory.objects.update_or_create(
            code=code, defaults={"name": name, "description": description, "sort_order": order}
        )
    for order, (code, name) in enumerate(GRID_WORKER_ROLES, start=1):
        GridWorkerRole.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})
    for name in SKILLS:
        Skill.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
