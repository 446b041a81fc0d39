app_name = "business"
urlpatterns: list = []
