"""Agents, environments and the interaction loop that connects them."""
