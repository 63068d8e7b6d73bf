import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/web/format-validation.js';

describe('format validation on save', () => {
  it.each([
    ['json', '{"a": [1, 2], "b": null}'],
    ['yaml', 'a: 1\nlist:\n  - x\n  - y\n---\nsecond: doc\n'],
    ['xml', '<?xml version="1.0"?><!-- c --><config><port>80</port></config>'],
    ['toml', 'title = "x"\n[server]\nport = 80\n'],
    ['ini', '; comment\n# another\n[server]\nport = 81\nhost: example.com\n\n[empty]\n'],
    ['hcl', 'variable "region" {\n  default = "eu-west-1"\n}\nname = "a"\n'],
    ['text', 'anything { at all'],
    ['shell', 'if then fi ]]'],
  ] as const)('accepts valid %s', async (format, value) => {
    expect(await formatProblem(format, value)).toBeUndefined();
  });

  it.each([
    ['json', '{"a": 1,}', /^invalid json: .*position/],
    ['yaml', 'key: [1, 2\n', /^invalid yaml: .*line 2/s],
    ['xml', '<a><b></a>', /^invalid xml: Expected closing tag 'b'.*line 1/],
    ['xml', 'just text', /^invalid xml: /],
    ['xml', '', /^invalid xml: no root element found$/],
    ['toml', 'a = 1\nb = \n', /^invalid toml: .*invalid value/s],
    ['ini', '[server\nport=1\n', /^invalid ini: line 1: unclosed section/],
    ['ini', '[s]\nno delimiter here\n', /^invalid ini: line 2: key-value delimiter not found/],
    ['hcl', 'variable "x" {\n  default = \n', /^invalid hcl: value\.hcl:2,13-3,1: Invalid expression/],
    ['hcl', 'a = 1\na = 2\n', /^invalid hcl: .*Attribute redefined/],
  ] as const)('reports the parser message for invalid %s', async (format, value, message) => {
    expect(await formatProblem(format, value)).toMatch(message);
  });
});
