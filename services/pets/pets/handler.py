"""Lambda entry point of the pets service: GET/PUT/DELETE /pets and /pets/{petId}."""

from store_common.catalogue import Catalogue
from store_common.catalogue_api import add_catalogue_routes
from store_common.config import CatalogueSettings
from store_common.dynamo import VersionedItemTable
from store_common.events import publisher
from store_common.http import create_app, lambda_entry

from pets.models import Pet, PetIn

settings = CatalogueSettings.from_environment()
pets = Catalogue(
    VersionedItemTable(settings.table_name),
    Pet,
    noun="pet",
    events=publisher(settings.event_bus_name, "pets"),
)

app = create_app()
add_catalogue_routes(app, pets, path="/pets", id_param="petId", item_in=PetIn, item_out=Pet)
lambda_handler = lambda_entry(app)
