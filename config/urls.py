from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("projects/", include("projects.urls")),
    path("spend/", include("reports.urls")),
    path("elements/", include("elements.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", include(("api.urls", "api-1"), namespace="api-1")),
    path("notifications/", include("hooks.urls")),
    path("", include("wavespeed.urls")),
    path("", include("generations.urls")),
    path("", include("gallery.urls")),
]
