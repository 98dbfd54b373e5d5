from torium_api.dev.stack import main

main()
