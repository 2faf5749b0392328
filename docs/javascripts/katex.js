// Typeset the math that pymdownx.arithmatex (generic mode) marks, with the KaTeX copy in
// docs/assets/katex: no network needed. Runs on first load and after every instant page
// load of the Material theme (document$); on a plain page, once the DOM is ready.
(function () {
  function typeset(root) {
    // The table of contents repeats headings as plain text, math included: typeset it too.
    var nodes = root.querySelectorAll(".arithmatex, .md-nav__link");
    for (var i = 0; i < nodes.length; i++) {
      renderMathInElement(nodes[i], {
        delimiters: [
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
        ],
        throwOnError: false,
      });
    }
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { typeset(document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  }
})();
