"""Lambda entry point of the foods service: GET/PUT/DELETE /foods and /foods/{foodId}."""

from store_common.catalogue import Catalogue
from store_common.catalogue_api import add_catalogue_routes
from store_common.config import CatalogueSettings
from store_common.dynamo import VersionedItemTable
from store_common.events import publisher
from store_common.http import create_app, lambda_entry

from foods.models import Food, FoodIn

settings = CatalogueSettings.from_environment()
foods = Catalogue(
    VersionedItemTable(settings.table_name),
    Food,
    noun="food",
    events=publisher(settings.event_bus_name, "foods"),
)

app = create_app()
add_catalogue_routes(app, foods, path="/foods", id_param="foodId", item_in=FoodIn, item_out=Food)
lambda_handler = lambda_entry(app)
