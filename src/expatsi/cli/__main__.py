from expatsi.cli import run

run()
