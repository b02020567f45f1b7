// The upload's progress bar: htmx reports the request body's progress on the posting form.
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[data-upload-progress]")) return;
  var bar = form.querySelector("progress");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  bar.textContent = bar.value + "%";
});
