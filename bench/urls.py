"""The product's URLs plus the benchmark's reference view (only in bench.settings)."""

from django.urls import include, path

from bench import views
from helpdesk import urls as product_urls

urlpatterns = [
    path("bench/floor", views.floor, name="bench_floor"),
    path("bench/hold", views.hold, name="bench_hold"),
    path("", include(product_urls)),
]

handler404 = product_urls.handler404
handler403 = product_urls.handler403
handler500 = product_urls.handler500
