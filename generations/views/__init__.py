"""The run's pages: the Generate form and the generation page (`generate`), the runs' cards
(`studio`), the prompt enhancer (`enhance`), reference images (`references`) and WaveSpeed's
webhooks (`webhooks`)."""
