from .views import catalogue, dining, manage

app_name = "services"

# Residents' pages (catalogue, ordering, my orders, the order page), the workbench of organisations,
# grid workers and staff, and the dining points' and classes' rosters, cards and reports.
urlpatterns = [*catalogue.urlpatterns, *manage.urlpatterns, *dining.urlpatterns]
