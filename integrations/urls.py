from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("settings/integrations/", views.integration_list, name="settings"),
]
