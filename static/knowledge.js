// The consultation step: "使用此口径" puts the script's reference into the reply's field.
document.querySelectorAll(".use-script").forEach((button) => {
  button.addEventListener("click", () => {
    const field = document.querySelector("[name=script_used]");
    if (field) field.value = button.dataset.ref;
  });
});
