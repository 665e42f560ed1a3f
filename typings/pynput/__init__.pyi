# Minimal type stubs for the parts of pynput that pamiq_core.console.keyboard uses.
# pynput ships no type information and cannot even be imported without a display,
# so it is not installed for development; these stubs let pyright check our code.
