"""The `omni` command line: one root typer app; each command group lives in its own module."""

from __future__ import annotations

import typer

from api.cli_accuracy import accuracy
from api.cli_db import db_app
from api.cli_demo import demo_command
from api.cli_experiment import experiment_app, mlflow_ui
from api.cli_forecast import batch_app, forecast
from api.cli_plan import plan_app
from api.cli_sales import sales_app
from api.cli_serve import serve

app = typer.Typer(
    name="omni",
    help="Omnichannel stock allocation and demand forecasting for a retail chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Command groups register here, one line each (see docs/CONTRACTS.md).
app.add_typer(db_app, name="db")
app.command("demo")(demo_command)
app.command("serve")(serve)
app.command("forecast")(forecast)
app.add_typer(experiment_app, name="experiment")
app.command("mlflow-ui")(mlflow_ui)
app.add_typer(plan_app, name="plan")
app.add_typer(batch_app, name="batch")
batch_app.command("accuracy")(accuracy)
app.add_typer(sales_app, name="sales")
