"""Reading: the learned span reader and the stages of the extractive answerer built on it."""
