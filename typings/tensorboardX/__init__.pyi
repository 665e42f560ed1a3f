# The parts of tensorboardX (the tensorboard extra) that pamiq_core.tracking uses;
# tensorboardX ships no types.
