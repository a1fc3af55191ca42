"""The model registry: models, versions with lineage, and stages with their history."""
