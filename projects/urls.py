from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("join/<uuid:token>/", views.invite_accept, name="join"),
    path("<uuid:uuid>/", views.project_detail, name="detail"),
    path("<uuid:uuid>/settings/", views.project_settings, name="settings"),
    path("<uuid:uuid>/archive/", views.project_archive, name="archive"),
    path("<uuid:uuid>/invites/", views.invite_create, name="invite_create"),
    path("<uuid:uuid>/invites/<uuid:token>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("<uuid:uuid>/members/<uuid:member>/role/", views.member_role, name="member_role"),
    path("<uuid:uuid>/members/<uuid:member>/remove/", views.member_remove, name="member_remove"),
    path("<uuid:uuid>/trail/", views.project_trail, name="trail"),
    path("<uuid:uuid>/moves/<uuid:batch>/undo/", views.moves_undo, name="moves_undo"),
]
