
if (!window.__ragCitations) {
  window.__ragCitations = true;
  const style = document.createElement('style');
  style.textContent = __CSS__;
  document.head.appendChild(style);
  document.addEventListener('click', function (event) {
    const link = event.target.closest && event.target.closest('a[href^="#cite-"]');
    if (!link) return;
    const m = (link.getAttribute('href') || '').match(/^#cite-(\d+)-(\d+)$/);
    if (!m) return;
    event.preventDefault();
    event.stopPropagation();
    const box = document.querySelector('#rag-cite-ref textarea, #rag-cite-ref input');
    const go = document.querySelector('#rag-cite-go');
    if (!box || !go) return;
    box.value = m[1] + ':' + m[2];
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(function () { go.click(); }, 0);
  }, true);
}
