"""MOSS desktop application (Qt). The engine it drives lives in moss_engine."""
