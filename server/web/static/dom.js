// Small DOM helpers shared by the page's modules.

// The element with this id.
export const $ = (id) => document.getElementById(id);

// A new element, with a class and text if given. Text goes in as text, never as markup.
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
