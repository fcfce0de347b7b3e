from efflit.cli import main

main()
