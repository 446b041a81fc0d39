from reports.exports import urls as export_urls
from reports.ready import urls as report_urls

app_name = "reports"
# The export builder lives at /export/, the ready-made reports at /export/reports/.
urlpatterns = export_urls.urlpatterns + report_urls.urlpatterns
