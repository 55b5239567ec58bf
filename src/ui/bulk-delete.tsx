/**
 * Delete by prefix, in a modal dialog: a dry run counts the keys first, and only then does a
 * second, explicit confirmation remove them (`POST /api/v1/db/delete-prefix`, admin only).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatCount } from './format.js';
import type { PageProps } from './key-browser.js';

type Step = { kind: 'edit' } | { kind: 'counted'; prefix: string; matched: number } | { kind: 'done'; prefix: string; deleted: number };

export function BulkDelete({ client, onError, initialPrefix, onClose }: PageProps & { initialPrefix: string; onClose: (deleted: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [prefix, setPrefix] = useState(initialPrefix);
  const [step, setStep] = useState<Step>({ kind: 'edit' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const count = await client.deletePrefix(prefix, { dryRun });
      setStep(dryRun ? { kind: 'counted', prefix, matched: count } : { kind: 'done', prefix, deleted: count });
    } catch (caught) {
      setError(onError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="card" aria-labelledby="bulk-title" onClose={() => onClose(step.kind === 'done')}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (prefix !== '') void run(true);
        }}
      >
        <h2 id="bulk-title">Delete keys by prefix</h2>
        <label>
          Prefix
          <input
            name="bulk-prefix"
            required
            value={prefix}
            disabled={step.kind !== 'edit'}
            onInput={(e) => setPrefix(e.currentTarget.value)}
          />
        </label>
        {step.kind === 'edit' && (
          <p class="muted">First count the keys that start with this prefix; nothing is removed until you confirm.</p>
        )}
        {step.kind === 'counted' && (
          <p role="status">
            <strong>{formatCount(step.matched)}</strong> keys start with <code>{step.prefix}</code>.
          </p>
        )}
        {step.kind === 'done' && (
          <p role="status">
            Deleted <strong>{formatCount(step.deleted)}</strong> keys under <code>{step.prefix}</code>.
          </p>
        )}
        {error !== undefined && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <div class="actions">
          {step.kind === 'edit' && (
            <button type="submit" class="primary" disabled={busy || prefix === ''}>
              {busy ? 'Counting…' : 'Count keys'}
            </button>
          )}
          {step.kind === 'counted' && step.matched > 0 && (
            <button type="button" class="danger" disabled={busy} onClick={() => void run(false)}>
              {busy ? 'Deleting…' : `Delete ${formatCount(step.matched)} keys`}
            </button>
          )}
          {step.kind === 'counted' && (
            <button type="button" disabled={busy} onClick={() => setStep({ kind: 'edit' })}>
              Change prefix
            </button>
          )}
          <button type="button" onClick={() => dialog.current?.close()}>
            {step.kind === 'done' ? 'Close' : 'Cancel'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
