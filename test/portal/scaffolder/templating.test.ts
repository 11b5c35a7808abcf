import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Templater } from '../../../src/portal/scaffolder/templating.js';

const context = {
  parameters: { name: 'Payments-API', tags: ['a', 'b'], owner: { team: 'team-a' }, repoUrl: 'pave?owner=acme&repo=payments', size: 3 },
  secrets: { token: 's3cret' },
  steps: { publish: { output: { remoteUrl: 'http://git/acme/payments' } } },
  user: { ref: 'user:default/jane' },
  context: { task: { id: 'task-1' } },
};

describe('templating sandbox', () => {
  const t = new Templater();
  const render = (s: string) => t.render(s, context);

  it('renders the expressions templates use', () => {
    const cases: [string, unknown][] = [
      ['${{ parameters.name }}', 'Payments-API'],
      ['${{ parameters.tags }}', ['a', 'b']],
      ['${{ parameters.owner }}', { team: 'team-a' }],
      ['${{ parameters.size }}', 3],
      ['svc-${{ parameters.name | lower }}', 'svc-payments-api'],
      ['${{ parameters.repoUrl | parseRepoUrl }}', { host: 'pave', repo: 'payments', owner: 'acme' }],
      ['${{ (parameters.repoUrl | parseRepoUrl).owner }}', 'acme'],
      ['${{ parameters.repoUrl | projectSlug }}', 'acme/payments'],
      ['${{ user.ref | parseEntityRef }}', { kind: 'user', namespace: 'default', name: 'jane' }],
      ["${{ 'team-a' | parseEntityRef({ defaultKind: 'group' }) }}", { kind: 'group', namespace: 'default', name: 'team-a' }],
      ["${{ parameters.owner | pick('team') }}", 'team-a'],
      ['${{ parameters.owner | dump }}', '{"team":"team-a"}'],
      ['{% if parameters.size > 2 %}large{% else %}small{% endif %}', 'large'],
      ['{% for t in parameters.tags %}${{ loop.index }}=${{ t }};{% endfor %}', '1=a;2=b;'],
      ['{% for k, v in parameters.owner %}${{ k }}:${{ v }}{% endfor %}', 'team:team-a'],
      ["${{ parameters.name.replace('-', '_').toLowerCase() }}", 'payments_api'],
      ["${{ parameters.name.split('-')[0] }}", 'Payments'],
      ["${{ parameters.tags.join('+') }} ${{ parameters.tags.length }}", 'a+b 2'],
      ['{% macro label(x) %}<${{ x }}>{% endmacro %}${{ label(parameters.name) }}', '<Payments-API>'],
      ['{% set n = parameters.size * 2 %}${{ n }}', '6'],
      ['${{ steps.publish.output.remoteUrl }} ${{ context.task.id }}', 'http://git/acme/payments task-1'],
      ['tags: ${{ parameters.tags }}', 'tags: a,b'],
      ['${{ parameters.missing }}', undefined],
    ];
    for (const [src, want] of cases) assert.deepEqual(render(src), want, src);
  });

  it('refuses every known way from an expression to Node, naming what it refused', () => {
    const payloads: [string, RegExp][] = [
      ["${{ ''.constructor.constructor('return process')() }}", /"constructor" cannot be read in a template/],
      ["${{ parameters.name.constructor.constructor('return process')().exit(1) }}", /"constructor" cannot be read/],
      ["${{ range.constructor('return process')() }}", /"range" is not available in templates/],
      ["${{ cycler.constructor('return process')() }}", /"cycler" is not available/],
      ["${{ joiner.constructor('return process')() }}", /"joiner" is not available/],
      ['${{ parameters.__proto__ }}', /"__proto__" cannot be read/],
      ['${{ parameters.owner.prototype }}', /"prototype" cannot be read/],
      ["${{ parameters['constr' ~ 'uctor'] }}", /"constructor" cannot be read/],
      ['${{ this }}', /"this" is not available/],
      ['${{ process.env }}', /"process" is not available/],
      ['${{ global.process }}', /"global" is not available/],
      ['${{ globalThis.process }}', /"globalThis" is not available/],
      ["${{ require('child_process') }}", /"require" is not available/],
      ["${{ Function('return process')() }}", /"Function" is not available/],
      ["${{ ({} | pick('constructor') | pick('constructor'))('return process')() }}", /"constructor" cannot be read/],
      ["${{ parameters.name.replace.constructor('return process')() }}", /"constructor" cannot be read/],
      ["{% macro m() %}{% endmacro %}${{ m.constructor('return process')() }}", /"constructor" cannot be read/],
      ["${{ ([parameters.name.replace] | first).constructor('return process')() }}", /"constructor" cannot be read/],
      ["${{ parameters.owner.hasOwnProperty('team') }}", /cannot be called/],
      ["${{ parameters.name.replace('P', parameters.name.replace) }}", /does not take a function/],
      ['${{ parameters.name[{ toString: parameters.name.replace }] }}', /property name must be a string or a number/],
      ['${{ parameters.name.repeat(100000000) }}', /cannot be called/],
      ["${{ 'x' | center(100000000) }}", /wider than 1000/],
      ["{% include '/etc/passwd' %}", /template not found/],
    ];
    for (const [src, why] of payloads) {
      assert.throws(() => render(src), (e: Error) => e.name === 'TemplateRenderError' && why.test(e.message) && e.message.includes(JSON.stringify(src)), src);
    }
  });

  it('cannot change the data it was given: no mutating methods, and it works on copies', () => {
    const data = { parameters: { list: ['a'], obj: { x: 1 } } };
    assert.deepEqual(t.render("${{ parameters.list.concat(['b']) }}", data), ['a', 'b']);
    assert.throws(() => t.render("${{ parameters.list.push('b') }}", data), /cannot be called/);
    assert.deepEqual(data, { parameters: { list: ['a'], obj: { x: 1 } } });
  });

  it('keeps ${{ }} in a value as text: a value is data, never a template', () => {
    const out = t.render('${{ parameters.description }}', { parameters: { description: "${{ ''.constructor.constructor('return process')() }} {{ 7*7 }}" } });
    assert.equal(out, "${{ ''.constructor.constructor('return process')() }} {{ 7*7 }}");
    assert.equal(t.renderText('# ${{ values.title }}', { values: { title: '${{ 7*7 }}' } }), '# ${{ 7*7 }}');
  });
});
