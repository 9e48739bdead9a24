from maestro.cli import main

main()
