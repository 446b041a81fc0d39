"""A URLconf whose only page crashes, for the 500 page test."""

from django.urls import path


def boom(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("boom/", boom)]
