from django.urls import path

from reports.documents import views

app_name = "documents"
urlpatterns = [
    path("batch/", views.documents_batch, name="batch"),
    path("sales-orders/<int:pk>/<slug:kind>.pdf", views.document_download, name="download"),
]
