"""Hypothesis profiles: a fast default for CI; TG_HYPOTHESIS_PROFILE=thorough for many more
examples per property."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "thorough", max_examples=400, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("TG_HYPOTHESIS_PROFILE", "ci"))
