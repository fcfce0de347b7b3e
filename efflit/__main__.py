from efflit.cli import run

run()
