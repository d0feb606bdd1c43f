"""The LLM: any OpenAI-compatible endpoint through the openai SDK, or the embedded llama.cpp model."""
