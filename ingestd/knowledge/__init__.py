"""Knowledge shipped as data: what alert names say about the CI they fire on."""

from ingestd.knowledge.alerts import (
    AlertKnowledge,
    KnowledgeError,
    Meaning,
    Role,
    default_knowledge,
    load_knowledge,
)

__all__ = ["AlertKnowledge", "KnowledgeError", "Meaning", "Role", "default_knowledge", "load_knowledge"]
