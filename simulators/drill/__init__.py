"""Drills: a scenario (YAML) stands up a platform, a simulated fleet and a broker, injects the
faults the field has, sends real signed alerts through the real intake, and reports.

    from simulators.drill import load_scenario, run_drill
    result = run_drill(load_scenario("county.yaml"))

See docs/drills.md for the scenario format and the report.
"""

from simulators.drill.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Scenario", "ScenarioError", "load_scenario"]
