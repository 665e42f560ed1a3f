"""The dashboard in a real headless Chromium, against a launched system.

Chromium is Debian's (``/usr/bin/chromium``; ``make test`` installs it, and
``PAMIQ_CHROMIUM`` names another binary), driven by Playwright. These tests are
marked ``browser``: ``pytest -m 'not browser'`` leaves them out. They never skip: a
missing browser fails them.
"""

import os
import re
import threading
import time as std_time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from eventually import eventually
from pamiq_core import (
    Agent,
    Environment,
    FixedIntervalInteraction,
    InferenceModel,
    LaunchConfig,
    Trainer,
    TrainingModel,
    launch,
    time,
)
from pamiq_core.console import (
    ControlCommands,
    SystemStatus,
    WebApiClient,
    WebApiServer,
)
from pamiq_core.console.web_api import CommandRequest
from pamiq_core.data import DataCollector
from pamiq_core.data.impls import SequentialBuffer

from .conftest import ControlStandIn, FakeSystem, free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("PAMIQ_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "dashboard-token"


class Ticker(Environment[int, int]):
    def __init__(self) -> None:
        self.count = 0

    def observe(self) -> int:
        self.count += 1
        return self.count

    def affect(self, action: int) -> None:
        pass


class Echo(InferenceModel):
    def __init__(self) -> None:
        self.offset = 0

    def infer(self, x: int) -> int:
        return x + self.offset


class EchoModel(TrainingModel[Echo]):
    def __init__(self) -> None:
        super().__init__()
        self.offset = 0

    def _create_inference_model(self) -> Echo:
        return Echo()

    def forward(self, x: int) -> int:
        return x + self.offset

    def sync_impl(self, inference_model: Echo) -> None:
        inference_model.offset = self.offset


class Stepper(Agent[int, int]):
    """Counts its steps and collects every observation."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def on_inference_models_attached(self) -> None:
        self.model = self.get_inference_model("echo")

    def on_data_collectors_attached(self) -> None:
        self.collector: DataCollector[int] = self.get_data_collector("numbers")

    def step(self, observation: int) -> int:
        self.steps += 1
        self.collector.collect(observation)
        self.log_scalar("observation", observation % 50)  # a saw tooth
        return self.model(observation)


class Learner(Trainer):
    """Trains on every batch of new data, taking a few milliseconds."""

    def __init__(self) -> None:
        super().__init__("numbers", min_buffer_size=1, min_new_data_count=5)

    def on_training_models_attached(self) -> None:
        self.model: EchoModel = self.get_training_model("echo")  # type: ignore[assignment]

    def train(self) -> None:
        self.model.offset += 1
        std_time.sleep(0.003)
        self.log_scalar("loss", 1.0 / (self.global_step + 1))


@dataclass
class Running:
    agent: Stepper
    client: WebApiClient
    url: str


@pytest.fixture(autouse=True)
def restore_global_time() -> Iterator[None]:
    yield
    time.resume()
    time.set_time_scale(1.0)


@pytest.fixture(params=[None, TOKEN], ids=["no-token", "token"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    """A launched system at 200 steps/s with a trainer, and its dashboard's URL."""
    token: str | None = request.param
    port = free_port()
    agent = Stepper()
    config = LaunchConfig(
        states_dir=tmp_path / "states",
        web_api_address=("localhost", port),
        web_api_token=token,
        max_uptime=300.0,  # a safety net: paused time does not count
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            launch(
                FixedIntervalInteraction.with_sleep_adjustor(agent, Ticker(), 0.005),
                {"echo": EchoModel()},
                {"numbers": SequentialBuffer[int](500)},
                {"learner": Learner()},
                config,
            )
        except BaseException as e:
            errors.append(e)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    client = WebApiClient("localhost", port, token=token)
    query = "" if token is None else f"?token={token}"
    try:
        eventually(lambda: client.get_status() is SystemStatus.ACTIVE)
        # The web API answers while launch still prepares (importing torch's
        # compiler stack when torch is loaded, seconds under coverage), before the
        # agent's first step: the rates are measured from then on.
        eventually(lambda: agent.steps > 0, what="the agent's first step")
        yield Running(agent, client, f"http://localhost:{port}/{query}")
    finally:
        client.shutdown()
        runner.join(timeout=60)
        client.close()
    assert not runner.is_alive()
    assert errors == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.is_file(), (
        f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium "
        "(apt-get install chromium); set PAMIQ_CHROMIUM to use another binary."
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def problems() -> list[str]:
    """Errors and warnings the page reported; a test removes those it expects."""
    return []


@pytest.fixture
def page(browser: Browser, problems: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    yield page
    context.close()
    assert problems == []


def updates(page: Page) -> int:
    return int(page.eval_on_selector("body", "body => body.dataset.updates"))


def next_update(page: Page) -> None:
    count = updates(page)
    page.wait_for_function(
        "count => Number(document.body.dataset.updates) > count",
        arg=count,
        timeout=10_000,
    )


def number(page: Page, selector: str) -> float:
    value = page.get_attribute(selector, "data-value")
    assert value, f"{selector} shows no value yet"
    return float(value)


def shown_status(page: Page, status: str) -> None:
    page.wait_for_function(
        "status => document.getElementById('status').dataset.status === status",
        arg=status,
        timeout=20_000,
    )


def painted_pixels(page: Page, canvas: str) -> Any:
    return page.eval_on_selector(
        canvas,
        """canvas => {
            const data = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
            return painted;
        }""",
    )


def test_shows_the_live_system_and_pauses_and_resumes_it(
    running: Running, page: Page
) -> None:
    page.goto(running.url)
    assert page.title() == "pamiq-core dashboard"
    shown_status(page, "active")
    next_update(page)

    rates, steps = [], []
    for _ in range(4):
        next_update(page)
        rates.append(number(page, "#steps-per-second"))
        steps.append(number(page, "#steps"))
    assert all(rate > 0 for rate in rates), rates
    assert len(set(rates)) > 1, rates  # measured anew at each poll
    assert steps == sorted(steps)
    assert steps[-1] > steps[0]
    for canvas in ("#chart-period", "#chart-rate", "#chart-training-rate"):
        assert painted_pixels(page, canvas) > 1000, canvas
    page.wait_for_function(
        "() => document.querySelector('#trainers tbody td').textContent === 'learner'"
    )
    assert page.text_content("#models tbody td") == "echo"
    assert page.text_content("#buffers tbody td") == "numbers"

    page.click("#pause")
    eventually(lambda: running.client.get_status() is SystemStatus.PAUSED)
    shown_status(page, "paused")
    before = running.agent.steps
    next_update(page)
    paused_steps = number(page, "#steps")
    next_update(page)
    assert number(page, "#steps") == paused_steps
    assert running.agent.steps == before  # the agent really stopped, a second on
    assert number(page, "#steps-per-second") == 0

    page.click("#resume")
    eventually(lambda: running.client.get_status() is SystemStatus.ACTIVE)
    shown_status(page, "active")
    eventually(lambda: running.agent.steps > before + 10)

    page.click("#save")
    page.wait_for_function(
        "() => document.getElementById('last-save-path').textContent.endsWith('.state')"
    )
    metrics = running.client.get_metrics()
    assert metrics is not None
    assert metrics["system"]["last_save"]["path"] == page.text_content(
        "#last-save-path"
    )


def scalar_chart(page: Page, series: str) -> dict[str, Any]:
    """What the chart of ``series`` shows: points, latest step, marks, pixels."""
    return page.eval_on_selector(
        f'figure.scalar[data-series="{series}"]',
        """(figure, marks) => {
            // Read a copy: repeated reads of the page's own canvas make Chromium
            // warn (willReadFrequently), and the page reads none.
            const canvas = figure.querySelector("canvas");
            const copy = document.createElement("canvas");
            copy.width = canvas.width;
            copy.height = canvas.height;
            const context = copy.getContext("2d", {willReadFrequently: true});
            context.drawImage(canvas, 0, 0);
            const data = context.getImageData(0, 0, copy.width, copy.height).data;
            const colored = {};
            for (const [kind, rgb] of Object.entries(marks)) {
                let count = 0;
                for (let i = 0; i < data.length; i += 4) {
                    if (data[i] === rgb[0] && data[i + 1] === rgb[1]
                        && data[i + 2] === rgb[2]) count++;
                }
                colored[kind] = count;
            }
            return {
                group: figure.closest(".scalar-group").dataset.group,
                points: Number(figure.dataset.points),
                marks: figure.dataset.marks ? figure.dataset.marks.split(",") : [],
                latest: figure.querySelector(".latest").textContent,
                pixels: colored,
            };
        }""",
        MARK_COLORS,
    )


MARK_COLORS = {"pause": [0xD2, 0x99, 0x22], "resume": [0x3F, 0xB9, 0x50]}
"""The colours the page draws pause and resume marks in."""


def latest_step(chart: dict[str, Any]) -> int:
    found = re.search(r"at step ([\d,]+)", chart["latest"])
    assert found, chart
    return int(found[1].replace(",", ""))


def test_charts_logged_scalars_since_the_start_and_marks_a_pause(
    running: Running, page: Page
) -> None:
    eventually(lambda: running.agent.steps > 100)  # logged before the page opens
    page.goto(running.url)
    page.wait_for_selector('figure.scalar[data-series="agent/observation"]')
    next_update(page)
    first = scalar_chart(page, "agent/observation")
    assert first["group"] == "agent"
    assert first["points"] >= 100  # the history since the start, not since opening
    assert latest_step(first) >= 100
    assert painted_pixels(page, 'figure.scalar[data-series="agent/observation"] canvas')
    page.wait_for_selector('figure.scalar[data-series="trainers/learner/loss"]')
    assert scalar_chart(page, "trainers/learner/loss")["group"] == "trainers/learner"

    next_update(page)
    next_update(page)
    grown = scalar_chart(page, "agent/observation")
    assert latest_step(grown) > latest_step(first)

    page.click("#pause")
    eventually(lambda: running.client.get_status() is SystemStatus.PAUSED)
    page.wait_for_function(
        """() => [...document.querySelectorAll("figure.scalar")]
            .every(f => (f.dataset.marks || "").split(",").includes("pause"))"""
    )
    for series in ("agent/observation", "trainers/learner/loss"):
        paused = scalar_chart(page, series)
        assert paused["marks"] == ["pause"], paused
        assert paused["pixels"]["pause"] > 50, paused  # a line the plot's height

    page.click("#resume")
    eventually(lambda: running.client.get_status() is SystemStatus.ACTIVE)
    page.wait_for_function(
        """() => document.querySelector('figure.scalar[data-series="agent/observation"]')
            .dataset.marks === "pause,resume" """
    )
    resumed = scalar_chart(page, "agent/observation")
    assert resumed["pixels"]["resume"] > 50, resumed
    assert page.text_content("#scalars-lost") == ""

    # A save pauses and resumes the system at once: one save mark, no more pauses.
    page.click("#save")
    page.wait_for_function(
        """() => document.querySelector('figure.scalar[data-series="agent/observation"]')
            .dataset.marks === "pause,resume,save" """
    )
    saved = scalar_chart(page, "agent/observation")
    assert saved["pixels"]["pause"] == pytest.approx(resumed["pixels"]["pause"], abs=20)
    assert saved["pixels"]["resume"] == pytest.approx(
        resumed["pixels"]["resume"], abs=20
    )


@pytest.fixture
def fake_system_url() -> Iterator[str]:
    """A web API over a fake system whose saves fail and which has a training-only
    model (``critic``), on a real socket for the browser."""
    system = FakeSystem()
    control = ControlStandIn(system)
    reason = "Saving /states/x.state failed: [Errno 28] No space left on device"

    def answer(request: CommandRequest) -> None:
        if request.command is ControlCommands.SAVE_STATE:
            request.fail(reason)
        else:
            request.succeed()

    control.answer = answer
    server = WebApiServer(
        system.provider,
        port=0,
        on_command=control.wake,
        metrics=system.metrics.snapshot,
    )
    control.serve(server)
    server.run_in_background()
    assert server.address is not None
    try:
        yield f"http://localhost:{server.address[1]}/"
    finally:
        server.stop()
        control.stop()


def test_shows_failed_saves_and_no_lag_for_a_training_only_model(
    fake_system_url: str, page: Page, problems: list[str]
) -> None:
    page.goto(fake_system_url)
    shown_status(page, "active")
    next_update(page)
    failures = page.text_content("#save-failures") or ""
    assert failures.startswith("1 failed save; latest")
    assert "No space left" in failures
    assert "(/states/two.state)" in failures
    rows = page.eval_on_selector_all(
        "#models tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    critic = next(row for row in rows if row[0] == "critic")
    assert critic[1:5] == ["0", "15", "\u2013", "\u2013"]  # no inference v., no lag

    page.click("#save")
    page.wait_for_function(
        "() => document.getElementById('message').textContent.startsWith('Save failed')"
    )
    message = page.locator("#message")
    assert "No space left on device" in (message.text_content() or "")
    assert message.get_attribute("class") == "failure"
    # The browser reports every error status of a request; this one is expected.
    problems.remove(
        "console error: Failed to load resource: the server responded with a "
        "status of 500 (Internal Server Error)"
    )

    page.click("#pause")
    page.wait_for_function(
        "() => document.getElementById('message').textContent === 'Pause: done'"
    )
