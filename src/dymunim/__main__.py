from dymunim.cli import app

app(prog_name="dymunim")
