// Writing into the prompt from a button (a reference's tag, an element's name, the enhancer's
// suggestion): the new value is announced with an `input` event, so whatever follows the prompt
// (the element warning, the enhancer button) sees it as if typed.
(function () {
  "use strict";

  function setValue(field, value) {
    field.value = value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // Puts `text` at the cursor (over any selection), with a space either side where a word
  // would otherwise run into it, and leaves the cursor after it.
  function insertAtCursor(field, text) {
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    const before = field.value.slice(0, start);
    const after = field.value.slice(end);
    const inserted =
      (before && !/\s$/.test(before) ? " " : "") + text + (/^\s/.test(after) ? "" : " ");
    setValue(field, before + inserted + after);
    const caret = start + inserted.length;
    field.focus();
    field.setSelectionRange(caret, caret);
  }

  window.darkroomPrompt = { setValue: setValue, insertAtCursor: insertAtCursor };
})();
