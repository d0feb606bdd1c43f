"""The Gradio chat page: ask in Chinese or English, watch the cited answer stream in.

The page shows the retrieved passages as soon as retrieval is done, streams the answer with
``[n]`` citations that are links (``[n]`` is ``answer.passages[n-1]``), and opens the cited
passage highlighted inside its article when a citation is clicked. "The articles don't cover
this" is a distinct state, notices (LLM fallback, dropped citations) are shown, and files can be
uploaded into the index. Modules: :mod:`~rag.ui.render` (data -> HTML, pure), :mod:`~rag.ui.chat` (the handlers),
:mod:`~rag.ui.uploads`, :mod:`~rag.ui.layout` (the blocks, ``static/page.css`` and
``static/page.js``) and :mod:`~rag.ui.launch` (serving).

Citations are plain ``<a class="cite" href="#cite-T-N">`` links (the chatbot's sanitizer keeps
``class`` and ``href``, not ``data-*``); one page-level click listener, installed by the header's
``js_on_load``, writes ``T:N`` into a hidden textbox and clicks a hidden button, whose Python
handler renders the passage. The same handler is the ``/show_passage`` API endpoint.
"""

from __future__ import annotations

from rag.ui.launch import launch
from rag.ui.layout import build_app

__all__ = ["build_app", "launch"]
