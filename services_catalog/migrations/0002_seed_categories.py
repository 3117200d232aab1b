"""The categories the seeds name (elder dining, day care, the after-school class) and the usual others.
Data, not code: staff rename them or add more in the admin."""

from django.db import migrations

CATEGORIES = [
    ("elder_dining", "老年助餐", "Elder dining", "助餐点的午餐、晚餐和送餐上门"),
    ("day_care", "日间照料", "Day care", "日间照料中心的托老、康复和文娱活动"),
    ("after_school", "四点半课堂", "After-school class", "放学后的看护、作业辅导和兴趣课"),
    ("legal_aid", "法律援助", "Legal aid", "法律咨询、调解和援助"),
    ("health", "健康服务", "Health", "健康咨询、义诊、慢病随访"),
    ("home_help", "居家帮扶", "Home help", "上门保洁、维修、代购和陪诊"),
    ("other", "其他服务", "Other services", ""),
]


def seed(apps, schema_editor):
    ServiceCategory = apps.get_model("services_catalog", "ServiceCategory")
    for position, (slug, name, name_en, description) in enumerate(CATEGORIES):
        ServiceCategory.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_en": name_en, "description": description, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("services_catalog", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
