from reports.exports import urls as export_urls
from reports.ready import urls as report_urls
from reports.schedules import urls as schedule_urls

app_name = "reports"
# The export builder lives at /export/, the ready-made reports at /export/reports/. The reports'
# fixed "reports/" prefix goes first so a builder pattern like "<slug:resource>/" cannot take it.
urlpatterns = schedule_urls.urlpatterns + report_urls.urlpatterns + export_urls.urlpatterns
