"""Radio transports behind ``hal.interfaces.Radio``: UDP and TCP to a real ground system."""
