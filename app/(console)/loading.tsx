import { Loading } from '../_components/states.js';

export default function ConsoleLoading() {
  return (
    <section className="panel">
      <Loading what="page" />
    </section>
  );
}
