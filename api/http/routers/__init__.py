"""One router per resource; handlers stay thin and call a service function."""
