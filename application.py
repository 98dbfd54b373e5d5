from torium_api import create_app

application = create_app()
