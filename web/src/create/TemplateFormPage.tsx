import Form from '@rjsf/core';
import type { ErrorSchema, RJSFValidationError } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { useMemo, useState } from 'react';
import { getEntity, parseRef, stringifyRef } from '../api/catalog';
import { ApiFailure } from '../api/http';
import { createTask, parameterSchema } from '../api/scaffolder';
import { Link, navigate } from '../app/router';
import { useAsync } from '../components/hooks';
import { ErrorState, Loading } from '../components/states';
import { widgets } from './pickers';
import { entityFields, splitUiSchema } from './uiSchema';

/**
 * A template's parameter steps, one form per step, then a review of every answer, then the
 * task. Nothing is sent to the scaffolder before "Create": schema errors and references to
 * entities that do not exist are stopped next to their field.
 */
export function TemplateFormPage({ namespace, name }: { namespace: string; name: string }) {
  const params = useAsync(() => parameterSchema({ namespace, name }), [namespace, name]);
  const steps = useMemo(() => (params.data?.steps ?? []).map((s) => ({ ...s, ...splitUiSchema(s.schema) })), [params.data]);
  const [index, setIndex] = useState(0);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [extraErrors, setExtraErrors] = useState<ErrorSchema>();
  const [checking, setChecking] = useState(false);
  const [submitError, setSubmitError] = useState<unknown>();
  const [submitting, setSubmitting] = useState(false);

  if (params.error) {
    return (
      <section>
        <h1>{name}</h1>
        <ErrorState error={params.error} what={`the form of template ${namespace}/${name}`} retry={params.reload} />
      </section>
    );
  }
  if (!params.data) return <Loading what="the template" />;
  const reviewing = index >= steps.length;
  const step = steps[index];

  /** Entity references must name something in the catalog; checked here, shown at the field. */
  const checkReferences = async (data: Record<string, unknown>): Promise<ErrorSchema | undefined> => {
    const errors: Record<string, { __errors: string[] }> = {};
    for (const f of entityFields(step!.uiSchema)) {
      const v = data[f.name];
      if (typeof v !== 'string' || !v) continue;
      const defaultKind = f.kinds.length === 1 ? f.kinds[0]!.toLowerCase() : f.kinds.length ? 'group' : undefined;
      const ref = parseRef(v, { kind: defaultKind });
      const kindOk = !f.kinds.length || f.kinds.some((k) => k.toLowerCase() === ref.kind);
      if (!ref.kind || !kindOk) {
        errors[f.name] = { __errors: [`"${v}" must be a reference to a ${f.kinds.join(' or ') || 'catalog entity'}, like ${(f.kinds[0] ?? 'component').toLowerCase()}:default/name`] };
        continue;
      }
      try {
        await getEntity(ref);
        data[f.name] = stringifyRef(ref);
      } catch (e) {
        if (e instanceof ApiFailure && e.notFound && !e.unavailable) {
          errors[f.name] = { __errors: [`there is no ${ref.kind} named "${ref.name}" in namespace "${ref.namespace}" in the catalog`] };
        } else {
          errors[f.name] = { __errors: [`could not check "${v}" against the catalog: ${(e as Error).message}`] };
        }
      }
    }
    return Object.keys(errors).length ? (errors as ErrorSchema) : undefined;
  };

  const next = async (data: Record<string, unknown>) => {
    setChecking(true);
    const merged = { ...values, ...data };
    const errors = await checkReferences(merged);
    setChecking(false);
    setValues(merged);
    setExtraErrors(errors);
    if (!errors) setIndex((i) => i + 1);
  };

  const create = async () => {
    setSubmitting(true);
    setSubmitError(undefined);
    try {
      const { id } = await createTask(`template:${namespace}/${name}`, values);
      navigate(`/create/tasks/${encodeURIComponent(id)}`);
    } catch (e) {
      setSubmitError(e);
      setSubmitting(false);
    }
  };

  return (
    <section aria-labelledby="template-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/create">Create</Link> / {params.data.title}
      </nav>
      <h1 id="template-title">{params.data.title}</h1>
      {params.data.description && <p className="muted">{params.data.description}</p>}
      <ol className="stepper" aria-label="Steps">
        {[...steps.map((s) => s.title), 'Review'].map((t, i) => (
          <li key={t + i} aria-current={i === index ? 'step' : undefined} className={i < index ? 'done' : undefined}>
            {t}
          </li>
        ))}
      </ol>
      <div className="card form-card">
        {!reviewing && step ? (
          <Form
            key={index}
            schema={step.schema}
            uiSchema={{ ...step.uiSchema, 'ui:submitButtonOptions': { norender: true } }}
            formData={values}
            validator={validator}
            widgets={widgets}
            extraErrors={extraErrors}
            extraErrorsBlockSubmit={false}
            showErrorList={false}
            noHtml5Validate
            transformErrors={humaniseErrors}
            onChange={({ formData }) => {
              // The form is controlled: keep every keystroke, so a re-render never restores an old answer.
              setValues((v) => ({ ...v, ...(formData as Record<string, unknown>) }));
              if (extraErrors) setExtraErrors(undefined);
            }}
            onSubmit={({ formData }) => void next(formData as Record<string, unknown>)}
          >
            <div className="actions">
              <button type="button" disabled={index === 0} onClick={() => setIndex((i) => i - 1)}>
                Back
              </button>
              <button type="submit" className="primary" disabled={checking}>
                {checking ? 'Checking…' : index === steps.length - 1 ? 'Review' : 'Next'}
              </button>
            </div>
          </Form>
        ) : (
          <Review steps={steps} values={values} />
        )}
        {reviewing && (
          <>
            {submitError ? <ErrorState error={submitError} what="the task" /> : null}
            <div className="actions">
              <button type="button" onClick={() => setIndex(steps.length - 1)} disabled={submitting}>
                Back
              </button>
              <button type="button" className="primary" onClick={() => void create()} disabled={submitting}>
                {submitting ? 'Creating…' : 'Create'}
              </button>
            </div>
          </>
        )}
      </div>
    </section>
  );
}

function Review({ steps, values }: { steps: { title: string; schema: Record<string, any> }[]; values: Record<string, unknown> }) {
  return (
    <div aria-labelledby="review-title">
      <h2 id="review-title">Review</h2>
      <p className="muted">Nothing has been changed yet. Check your answers, then create.</p>
      {steps.map((s) => (
        <div key={s.title}>
          <h3>{s.title}</h3>
          <dl className="facts" data-testid="review">
            {Object.entries(s.schema.properties ?? {}).map(([key, prop]) => (
              <div key={key} className="fact-row">
                <dt>{(prop as { title?: string }).title ?? key}</dt>
                <dd>{values[key] === undefined ? <span className="muted">not set</span> : typeof values[key] === 'object' ? JSON.stringify(values[key]) : String(values[key])}</dd>
              </div>
            ))}
          </dl>
        </div>
      ))}
    </div>
  );
}

/** Ajv's messages, reworded for people filling in a form. */
function humaniseErrors(errors: RJSFValidationError[]): RJSFValidationError[] {
  return errors.map((e) => {
    if (e.name === 'pattern') return { ...e, message: `does not have the required format (${(e.params as { pattern?: string })?.pattern})` };
    if (e.name === 'required') return { ...e, message: 'is required' };
    return e;
  });
}
