"""Batches: what to grade and what to reuse, the batch cache, and the engines that grade (local pool, Celery cluster)."""
