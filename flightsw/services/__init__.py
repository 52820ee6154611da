"""The PUS core services and the framework pieces they share."""
