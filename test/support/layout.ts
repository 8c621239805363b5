import type { Page } from 'playwright-core';

/**
 * Layout faults axe does not see: a rule meant for one page squeezing another's text into a sliver
 * (the dashboard's `<section class="tpp">` once became a flex row and broke its text letter by letter,
 * ~7,000 px tall on a phone). Measured in the real browser at the current viewport.
 */

/** A block of 20 or more characters needs at least this width to read as text. */
export const MIN_TEXT_BLOCK_PX = 150;

export interface LayoutReport {
  /** Text blocks that break inside words or are squeezed below MIN_TEXT_BLOCK_PX. */
  squeezed: string[];
  pageHeight: number;
  /** What the page's text warrants: see `heightBudget`. */
  heightBudget: number;
}

/**
 * Every element that holds text of its own and is laid out as a block is measured:
 * - it may not wrap into more lines than it has words (text breaking letter by letter), unless it is
 *   wide (a long reference in a narrow column may wrap anywhere by design);
 * - 20 or more characters may not sit in a block narrower than MIN_TEXT_BLOCK_PX.
 * The page's height budget is generous: each block's text at 10 px a character on the block's own
 * width (at least a line each), 2.2 lines of height per line of text for margins and padding, plus
 * 600 px for the banner, forms and buttons. A correct page sits well inside it; text squeezed into a
 * sliver does not.
 */
/** The little of the DOM the measurement uses (the project compiles without the DOM library). */
interface Rect {
  top: number;
  width: number;
  height: number;
}
interface DomNode {
  nodeType: number;
  textContent: string;
}
interface DomElement extends DomNode {
  tagName: string;
  className: string;
  innerText?: string;
  childNodes: Iterable<DomNode>;
  getBoundingClientRect(): Rect;
}
interface BrowserGlobals {
  document: {
    body: { querySelectorAll(selector: string): Iterable<DomElement> };
    documentElement: { clientWidth: number; scrollHeight: number };
    createRange(): { selectNodeContents(node: DomNode): void; getClientRects(): Iterable<Rect> };
  };
  getComputedStyle(element: DomElement): { display: string; position: string; lineHeight: string; fontSize: string };
}

export async function measureLayout(page: Page): Promise<LayoutReport> {
  return page.evaluate(
    ({ minWidth }) => {
      const browser = globalThis as unknown as BrowserGlobals;
      const doc = browser.document;
      const style = (element: DomElement) => browser.getComputedStyle(element);
      const squeezed: string[] = [];
      let budget = 600;
      const viewportWidth = doc.documentElement.clientWidth;
      for (const element of doc.body.querySelectorAll('*')) {
        const textNodes = [...element.childNodes].filter((node) => node.nodeType === 3 && node.textContent.trim());
        const own = textNodes
          .map((node) => node.textContent)
          .join(' ')
          .replace(/\s+/g, ' ')
          .trim();
        const text = (element.innerText ?? '').replace(/\s+/g, ' ').trim();
        if (!own || !text) continue;
        const computed = style(element);
        if (computed.display.startsWith('inline') || computed.display === 'contents' || computed.position === 'absolute') continue;
        const box = element.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const lineHeight = Number.parseFloat(computed.lineHeight) || Number.parseFloat(computed.fontSize) * 1.5;
        // Lines of the element's own text as laid out (a grid cell's box may be taller than its text).
        const tops = new Set<number>();
        for (const node of textNodes) {
          const range = doc.createRange();
          range.selectNodeContents(node);
          for (const rect of range.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top));
        }
        const lines = tops.size;
        const words = own.split(' ').length;
        const label = `${element.tagName.toLowerCase()}${element.className ? `.${String(element.className).replace(/ /g, '.')}` : ''} "${text.slice(0, 40)}" ${Math.round(box.width)}x${Math.round(box.height)}px`;
        if (box.width < viewportWidth / 2 && lines > words) squeezed.push(`${label}: ${lines} lines for ${words} words`);
        else if (text.length >= 20 && box.width < minWidth) squeezed.push(`${label}: narrower than ${minWidth}px`);
        const charsPerLine = Math.max(1, Math.floor(Math.max(box.width, minWidth) / 10));
        budget += Math.max(1, Math.ceil(own.length / charsPerLine)) * lineHeight * 2.2;
      }
      return { squeezed, pageHeight: doc.documentElement.scrollHeight, heightBudget: Math.round(budget) };
    },
    { minWidth: MIN_TEXT_BLOCK_PX },
  );
}
