"""A DQN agent that learns to balance gymnasium's CartPole while it plays."""
