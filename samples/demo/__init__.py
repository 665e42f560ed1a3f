"""The README demo: an agent learning a pendulum's dynamics while it acts."""
