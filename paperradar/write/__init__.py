"""Write stage: titles and summaries for the digest (digest_texts.py), and the styles (styles/), through the
LLM service (paperradar.llm), with the checks (checks/) every model text goes through."""
