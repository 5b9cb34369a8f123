// Sets the theme class before the first paint so a dark-mode user never sees a white flash. A file,
// not an inline script: the Content-Security-Policy allows scripts from this origin only.
(function () {
  try {
    var t = localStorage.getItem("dymunim.theme");
    var dark = t === "dark" || ((!t || t === "system") && matchMedia("(prefers-color-scheme: dark)").matches);
    document.documentElement.classList.toggle("dark", dark);
  } catch (e) {}
})();
